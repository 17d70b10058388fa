#!/usr/bin/python3
"""The smallest auth_http service for nginx's mail proxy: every login goes to one backend.

    auth_http.py LISTEN_PORT BACKEND_PORT

nginx sends one HTTP/1.0 request per login (headers Auth-User, Auth-Pass, ...) and reads
Auth-Status/Auth-Server/Auth-Port; the backend (Dovecot) checks the password itself.
"""

import socket
import socketserver
import sys


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            data += chunk
        self.request.sendall(self.server.reply)


class Server(socketserver.TCPServer):
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    listen_port, backend_port = int(sys.argv[1]), int(sys.argv[2])
    server = Server(("127.0.0.1", listen_port), Handler)
    server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server.reply = (b"HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\n"
                    b"Auth-Port: %d\r\n\r\n" % backend_port)
    server.serve_forever()


if __name__ == "__main__":
    main()
