"""A minimal, fast SMTP sink for benchmarks: accepts everything, keeps nothing, counts.

aiosmtpd, which the tests use, reads message data line by line and tops out near 270
messages per second for a 60 KB newsletter on this machine; that would measure the sink,
not the sender. This sink speaks just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT) and scans DATA for the terminating CRLF.CRLF in bulk.

    python benchmarks/fast_smtp_sink.py PORT     # prints "ready", then serves until killed
"""

from __future__ import annotations

import asyncio
import sys

END_OF_DATA = b"\r\n.\r\n"


class SinkProtocol(asyncio.Protocol):
    received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.in_data:
                end = self.buffer.find(END_OF_DATA)
                if end < 0:
                    # Keep only what could still hold the start of the terminator.
                    return
                self.buffer = self.buffer[end + len(END_OF_DATA) :]
                self.in_data = False
                SinkProtocol.received += 1
                self.transport.write(b"250 2.0.0 OK queued as S%d\r\n" % SinkProtocol.received)
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                return
            line, self.buffer = self.buffer[:line_end], self.buffer[line_end + 2 :]
            self.command(line.upper())

    def command(self, line: bytes) -> None:
        if line.startswith(b"EHLO"):
            self.transport.write(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
        elif line.startswith(b"DATA"):
            self.in_data = True
            self.buffer = b"\r\n" + self.buffer  # so that an empty body still ends at CRLF.CRLF
            self.transport.write(b"354 go ahead\r\n")
        elif line.startswith(b"QUIT"):
            self.transport.write(b"221 bye\r\n")
            self.transport.close()
        else:  # HELO, MAIL, RCPT, RSET, NOOP
            self.transport.write(b"250 OK\r\n")


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(SinkProtocol, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
