"""kiwoom-restful's README example "실제 운영을 위한 스크립트 예시", on this SDK.

Changes from the README, typos only: ``MyBot(REAL, appkey, scretkey)`` (a positional
argument after a keyword does not parse) and the import of ``MyBot`` (the README's is the
real-time example's). Keys are read from the files when they exist.
"""

import asyncio

from realtime_callbacks import MyBot

from kiwoom import REAL


async def main():
    # appkey, scretkey 파일 위치 예시
    appkey = "../keys/appkey.txt"
    scretkey = "../keys/secretkey.txt"

    # async with context 사용을 통한 자동 연결 및 리소스 관리
    async with MyBot(REAL, appkey, scretkey) as bot:
        bot.debugging = True  # 요청 및 응답 프린트
        await bot.run()

    # context 외부는 자동 연결 해제
    print('Done')

if __name__ == '__main__':
    asyncio.run(main())
