#!/usr/bin/python3
"""A loopback OpenAI-compatible Chat Completions server for scripts/valgrind.sh
(the C tests use tests/chat_test_server.h instead). Streams a short reply as
server-sent events when asked to stream, else answers with one JSON body.
Prints its base URL on the first line of stdout, then serves until killed.

    /usr/bin/python3 scripts/fake_llm_server.py [PORT]   (0 = any free port)
"""
import http.server
import json
import sys

WORDS = ["Hello", " there", ", you", " look", " happy", "!"]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for w in WORDS:
                chunk = {"choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()
            end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 20, "completion_tokens": len(WORDS)}}
            self.wfile.write(b"data: " + json.dumps(end).encode() + b"\n\ndata: [DONE]\n\n")
        else:
            reply = json.dumps({"choices": [{"index": 0, "finish_reason": "stop", "message":
                                             {"role": "assistant", "content": "".join(WORDS)}}]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.encode())
        self.close_connection = True


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = http.server.HTTPServer(("127.0.0.1", port), Handler)
    print(f"http://127.0.0.1:{srv.server_address[1]}/v1", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
