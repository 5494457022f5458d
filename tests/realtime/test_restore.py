"""After a reconnect every registration is sent again, exactly: groups of over 100 items in
requests of at most 100, and items whose type sets differ each with exactly their types.

The fixture server keeps the (type, item) pairs of the current connection per group, applies
``refresh "0"`` as Kiwoom does (the group's earlier pairs are dropped) and rejects a request of
over 100 items, so what it holds after the restore is what a real server would hold.
"""

from __future__ import annotations

from typing import Any

from rt_server import MAX_ITEMS, KiwoomServer
from test_socket import client, until

from kiwoom import ReconnectInfo

Pairs = set[tuple[str, str]]


def codes(start: int, n: int) -> list[str]:
    return [f"{i:06d}" for i in range(start, start + n)]


def pairs(items: list[str], types: list[str]) -> Pairs:
    return {(t, i) for t in types for i in items}


async def drop_and_wait_restore(
    server: KiwoomServer, infos: list[ReconnectInfo]
) -> list[dict[str, Any]]:
    """Cut the connection, wait for the restore to finish; the REG requests it sent."""
    mark, restores = len(server.received), len(infos)
    server.drop()
    await until(lambda: len(infos) == restores + 1)
    sent = server.received[mark:]
    assert sent[0]["trnm"] == "LOGIN"
    return [m for m in sent if m["trnm"] == "REG"]


def check_restore(regs: list[dict[str, Any]], wanted: dict[str, Pairs]) -> None:
    """Every wanted pair sent once, in requests of at most 100 items that keep what the
    group holds (``refresh "1"``: the fresh connection holds nothing, so nothing to replace)."""
    sent: dict[str, list[tuple[str, str]]] = {}
    for m in regs:
        assert m["refresh"] == "1", m
        for d in m["data"]:
            assert 1 <= len(d["item"]) <= MAX_ITEMS
            sent.setdefault(m["grp_no"], []).extend((t, i) for t in d["type"] for i in d["item"])
    assert {g: set(p) for g, p in sent.items()} == wanted
    for group, group_pairs in sent.items():
        assert len(group_pairs) == len(wanted[group]), f"group {group}: a pair sent twice"


def test_groups_of_over_100_items_are_restored_whole(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            infos: list[ReconnectInfo] = []
            async with client(server, on_reconnect=infos.append) as rt:
                big = codes(0, 250)
                for start in range(0, 250, 100):  # 100 + 100 + 50 items
                    await rt.register(big[start : start + 100], "0B", group="1")
                await rt.register(codes(1000, 100), "0D", group="2")
                await rt.register(codes(1100, 20), "0D", group="2")
                wanted = {
                    "1": pairs(big, ["0B"]),
                    "2": pairs(codes(1000, 120), ["0D"]),
                }
                assert server.registered == wanted
                for _ in range(2):  # a second drop restores as completely as the first
                    regs = await drop_and_wait_restore(server, infos)
                    assert server.registered == wanted
                    check_restore(regs, wanted)
                    assert len(regs) == 3 + 2
                    assert all(r.acknowledged == r.items for r in infos[-1].registrations)
                    assert [len(r.items) for r in infos[-1].registrations] == [250, 120]
                assert server.oversized == 0
                assert rt.stats().reconnects == 2

    run(main())


def test_items_with_different_type_sets_are_restored_with_exactly_their_types(run: Any) -> None:
    async def main() -> None:
        async with KiwoomServer() as server:
            infos: list[ReconnectInfo] = []
            async with client(server, on_reconnect=infos.append) as rt:
                trades = codes(0, 150)  # 0B for 150 items, 30 of them with 0D as well
                await rt.register(trades[:100], "0B", group="1")
                await rt.register(trades[100:], "0B", group="1")
                await rt.register(trades[:30], "0D", group="1")
                await rt.register(["900001", "900002"], ["0D", "0H"], group="1")
                await rt.register(["005930"], "0B", group="3")
                await rt.register(["000660"], ["0B", "0D"], group="3", replace=True)
                await rt.register([], ["00", "04"], group="9")
                wanted = {
                    "1": pairs(trades, ["0B"])
                    | pairs(trades[:30], ["0D"])
                    | pairs(["900001", "900002"], ["0D", "0H"]),
                    "3": pairs(["000660"], ["0B", "0D"]),
                    "9": pairs([""], ["00", "04"]),
                }
                assert server.registered == wanted
                regs = await drop_and_wait_restore(server, infos)
                assert server.registered == wanted
                check_restore(regs, wanted)
                assert server.oversized == 0
                by_type = {(r.group, r.type): set(r.acknowledged) for r in rt.registrations()}
                assert by_type == {
                    ("1", "0B"): set(trades),
                    ("1", "0D"): set(trades[:30]) | {"900001", "900002"},
                    ("1", "0H"): {"900001", "900002"},
                    ("3", "0B"): {"000660"},
                    ("3", "0D"): {"000660"},
                    ("9", "00"): {""},
                    ("9", "04"): {""},
                }

    run(main())
