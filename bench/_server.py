"""A minimal keep-alive HTTP/1.1 server answering like Kiwoom, for client benchmarks.

Run as a separate process (``python bench/_server.py PORT``) so that the client's CPU time
is measured apart from the server's. Answers /oauth2/token with a token, ka10081 with a 600-row
daily chart (~120 KB) and every other API id with a small quote (~0.4 KB).
"""

from __future__ import annotations

import asyncio
import json
import sys

from _bodies import chart_body

SMALL = json.dumps(
    {
        "stk_cd": "005930", "stk_nm": "삼성전자", "setl_mm": "12", "fav": "5000",
        "cap": "1311", "flo_stk": "25527", "crd_rt": "+0.08", "oyr_hgst": "+181400",
        "oyr_lwst": "-91200", "mac": "24352", "mac_wght": "", "for_exh_rt": "0.00",
        "repl_pric": "66780", "per": "", "eps": "", "roe": "", "pbr": "", "ev": "",
        "bps": "-75300", "sale_amt": "0", "bus_pro": "0", "cup_nga": "0",
        "250hgst": "+124000", "250lwst": "-66800", "high_pric": "95400", "open_pric": "-0",
        "low_pric": "0", "upl_pric": "20241016", "lst_pric": "-47.41",
        "return_code": 0, "return_msg": "정상적으로 처리되었습니다",
    },
    ensure_ascii=False,
).encode()  # fmt: skip
CHART = chart_body()
TOKEN = json.dumps(
    {
        "expires_dt": "20991231235959", "token_type": "bearer", "token": "T" * 86,
        "return_code": 0, "return_msg": "ok",
    }
).encode()  # fmt: skip


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            api_id = b""
            lines = head.split(b"\r\n")
            path = lines[0].split(b" ")[1] if b" " in lines[0] else b""
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"api-id":
                    api_id = value.strip()
            if length:
                await reader.readexactly(length)
            # Routed like Kiwoom: the token by path (the reference sends no api-id there).
            body = TOKEN if path == b"/oauth2/token" else CHART if api_id == b"ka10081" else SMALL
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=UTF-8\r\n"
                b"cont-yn: N\r\nnext-key: \r\napi-id: " + api_id + b"\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
