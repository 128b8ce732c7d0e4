/** The plug-in kit: transport helpers that turn a protocol description into a GameClient. */
export { webSocketJsonClient, isLost, type WebSocketJsonOptions, type LostReply } from './websocket-json-client';
export { httpJsonClient, type HttpJsonOptions, type HttpCall, type HttpReply } from './http-json-client';
