"""kiwoom-restful's README example "HTTP 데이터 교환 구현 예시", running on this SDK.

Changes from the README, typos only: ``run(self)``, the missing ``datetime`` import,
``df=df`` (a positional argument after keywords does not parse), ``end = today.strftime``
and ``await self.trade``. Run it with ``examples/production.py`` or
``MyBot(host, appkey, secretkey).start()``.
"""

import asyncio  # noqa: F401  (as in the README)
from datetime import datetime, timedelta

from kiwoom import Bot
from kiwoom.proc import candle, trade


class MyBot(Bot):
    async def run(self):
        # 분봉차트 데이터
        code = '005930_AL'  # 거래소 통합코드
        df = await self.candle(
                code=code,
                period='min',   # 'tick' | 'min' | 'day'
                ctype='stock',  # 'stock' | 'sector'
                start='20250901',
                end='',
        )
        await candle.to_csv(file=f'{code}.csv', path='./', df=df)

        # 계좌 체결내역 데이터 (최근 2달만)
        fmt = '%Y%m%d'
        today = datetime.today()
        start = today - timedelta(days=60)
        start = start.strftime(fmt)
        end = today.strftime(fmt)
        trs = await self.trade(start, end)
        # 키움증권 0343 매매내역 화면 저장
        await trade.to_csv('trade.csv', './', trs)
