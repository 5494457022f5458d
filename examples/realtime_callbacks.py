"""kiwoom-restful's README example "Websocket 실시간 데이터 요청 구현 예시", on this SDK.

Changes from the README, typos only: ``self`` on the methods, ``self.ticks`` (the README
appends to an undefined ``self.list``), ``self.stock_list`` (not ``bot``), ``real_type``
(not ``real_tyle``), group 3 registers ``codes3``, and a ", " between the two printed
prices. orjson is not among our dependencies: the standard ``json`` stands in when it is
not installed (each callback gets the item's JSON text, which either reads).
"""

import asyncio  # noqa: F401  (as in the README)

try:
    import orjson
except ImportError:  # orjson is optional: json reads the same text
    import json as orjson

import pandas as pd

from kiwoom import Bot


class MyBot(Bot):
    def __init__(self, host: str, appkey: str, scretkey: str):
        super().__init__(host, appkey, scretkey)
        self.ticks: list[dict[str, str]] = []

    async def on_receive_order_book(self, raw: str):
        # 호가 데이터 처리 콜백함수 예시
        # msg = json.loads(raw) # slow
        msg = orjson.loads(raw) # fast
        print(
            f"종목코드: {msg['item']}, "
            f"최우선매도호가: {msg['values']['41']}, "
            f"최우선매수호가: {msg['values']['51']}"
        )

    async def on_receive_tick(self, raw: str):
        # 체결 데이터 처리 콜백함수 예시
        self.ticks.append(orjson.loads(raw))
        if len(self.ticks) >= 100:
            df = pd.DataFrame(self.ticks)
            print(df)

    async def run(self):
        # 거래소 통합 종목코드 받아오기
        kospi, kosdaq = '0', '10'
        kospi_codes = await self.stock_list(kospi, ats=True)
        kosdaq_codes = await self.stock_list(kosdaq, ats=True)

        # 호가 데이터 수신 시 콜백 등록
        self.api.add_callback_on_real_data(
            real_type="0D",  # 실시간시세 > 주식호가잔량
            callback=self.on_receive_order_book
        )
        # 체결 데이터 수신 시 콜백 등록
        self.api.add_callback_on_real_data(
            real_type="0B",  # 실시간시세 > 주식체결
            callback=self.on_receive_tick
        )

        # 데이터 수신을 위한 서버 요청
        # > 데이터가 수신되면 자동으로 콜백이 호출됨
        # > grp_no(그룹 번호) 별 종목코드(최대 100개) 관리 필요
        codes1 = kospi_codes[:100]
        await self.api.register_hoga(grp_no='1', codes=codes1)
        await self.api.register_tick(grp_no='1', codes=codes1)

        codes2 = kosdaq_codes[:100]
        await self.api.register_hoga(grp_no='2', codes=codes2)

        codes3 = kospi_codes[100:200]
        await self.api.register_tick(grp_no='3', codes=codes3)

        # 데이터 수신 해제
        await self.api.remove_register(grp_no='1', type=['0B', '0D'])
        await self.api.remove_register(grp_no='2', type='0D')  # 호가 '0D'
        await self.api.remove_register(grp_no='3', type='0B')  # 체결 '0B'
