// A tiny TCP echo service for chaos tests: echoes every byte; "CLOSE\n" makes the server end the connection.
const net = require('node:net');
const port = Number(process.argv[2]);
const host = process.argv[3] || '127.0.0.1';
net
  .createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (data) => {
      if (data.toString() === 'CLOSE\n') socket.end();
      else socket.write(data);
    });
  })
  .listen(port, host);
