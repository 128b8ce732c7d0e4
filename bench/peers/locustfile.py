"""The peer bench's Locust user: one WebSocket per user, one action every 2 s, waiting for its ack."""
import json
import time

import websocket
from locust import User, constant, task


class EchoUser(User):
    wait_time = constant(2)

    def on_start(self):
        self.ws = websocket.create_connection(self.host)
        self.next_id = 0

    def on_stop(self):
        self.ws.close()

    @task
    def ping(self):
        self.next_id += 1
        started = time.perf_counter()
        self.ws.send(json.dumps({"id": self.next_id, "op": "ping"}))
        reply = self.ws.recv()
        self.environment.events.request.fire(
            request_type="ws", name="ping", response_time=(time.perf_counter() - started) * 1000,
            response_length=len(reply), exception=None, context={},
        )
