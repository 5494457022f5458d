"""From a decoded ``REAL`` frame to typed ticks in every consumer, with nothing lost silently.

Backpressure policy: every consumer (a callback or a stream) owns a bounded queue. The receive
loop never waits for a consumer: when a queue is full the OLDEST tick in it is dropped and
counted (``dropped``), so a slow consumer sees the freshest data and the loop stays live. Values
are decoded into their typed Struct once per tick, only when some consumer wants that type.

Counters per real-time type: ``received`` (items that arrived), ``dispatched`` (ticks handed to
a consumer: a callback returned or a stream yielded; one tick counts once per consumer),
``dropped``, ``decode_errors`` (values that did not decode: skipped and logged) and
``callback_errors`` (a callback raised: logged, the consumer goes on).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from queue import SimpleQueue
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

import msgspec

from . import _defaults
from ._frames import Control, Head, Item, Real, StrippedFrames, TypedFrames, decode_frame
from ._tick import Tick, V, subclass

__all__ = [
    "Dispatcher", "Stats", "StopRaw", "Stream", "Subscription", "Tick", "TypeCounters", "V"
]  # fmt: skip


class StopRaw(Protocol):
    """Stops a raw-frame callback (:meth:`kiwoom.Realtime.on_raw`): frames not yet given to
    it are dropped, or with ``drain=True`` given to it first."""

    def __call__(self, drain: bool = False) -> Awaitable[None]: ...


log = logging.getLogger("kiwoom.realtime")


class TypeCounters(msgspec.Struct):
    """What happened to the items of one real-time type (see the module docstring)."""

    received: int = 0
    dispatched: int = 0
    dropped: int = 0
    decode_errors: int = 0
    callback_errors: int = 0


class Stats(msgspec.Struct):
    """A snapshot of the socket's counters (``Realtime.stats()``)."""

    connects: int = 0
    """Successful logins, the first one included."""
    reconnects: int = 0
    """Successful logins after a lost connection."""
    frames: int = 0
    """Frames received, every kind."""
    malformed_frames: int = 0
    """Frames that were not a JSON object with a ``trnm``: counted, logged and skipped."""
    pings: int = 0
    """Server PINGs echoed."""
    watchdog_trips: int = 0
    """Connections replaced because they went silent while subscriptions were active."""
    raw_dropped: int = 0
    """Frames dropped from full raw-frame consumers."""
    types: dict[str, TypeCounters] = {}


Decode = Callable[[msgspec.Raw], Any]


class Typed(NamedTuple):
    """How a real-time type's values decode."""

    wire: type[msgspec.Struct]
    """The wire Struct: every value as sent."""
    convert: Callable[[Any], Any]
    """Wire Struct -> typed Struct."""
    decode_wire: Decode
    """Raw values -> wire Struct."""
    typed: type[msgspec.Struct]
    """The typed values Struct (``Real0B``)."""


Predicate = Callable[[Tick[Any]], bool]


class _Consumer:
    """A bounded queue of ticks and the filter that feeds it."""

    __slots__ = (
        "closed",
        "codes",
        "counters",
        "maxsize",
        "plain",
        "predicate",
        "queue",
        "types",
        "waiting",
        "wire",
    )

    def __init__(
        self,
        types: frozenset[str],
        codes: frozenset[str] | None,
        predicate: Predicate | None,
        maxsize: int,
        counters: dict[str, TypeCounters],
    ) -> None:
        self.types = types
        self.codes = codes
        self.predicate = predicate
        self.plain = codes is None and predicate is None
        """No filter: every tick of its types is queued (the dispatcher's inline case)."""
        self.maxsize = maxsize
        self.queue: deque[Tick[Any]] = deque()
        self.counters = counters
        self.closed = False
        self.wire = False
        """True: ticks carry the wire Struct (every value as sent), not the typed one."""
        self.waiting: asyncio.Future[None] | None = None
        """Set while the consumer waits for a tick (a tick offered then wakes it)."""

    def offer(self, tick: Tick[Any]) -> None:
        if self.codes is not None and tick.item not in self.codes:
            return
        if self.predicate is not None and not self.predicate(tick):
            return
        queue = self.queue
        if len(queue) >= self.maxsize:
            old = queue.popleft()
            self.counters[old.type].dropped += 1
        queue.append(tick)
        if self.waiting is not None:
            self._wake()

    def _wake(self) -> None:
        waiter, self.waiting = self.waiting, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Wait until a tick is queued or the consumer is closed."""
        while not self.queue and not self.closed:
            waiter = asyncio.get_running_loop().create_future()
            self.waiting = waiter
            try:
                await waiter
            finally:
                if self.waiting is waiter:
                    self.waiting = None

    def close(self) -> None:
        self.closed = True
        self._wake()


class Stream(_Consumer, Generic[V]):
    """An async iterator of ticks: ``async for tick in rt.stream("0B", ["005930"])``.

    Close it (``async with``, ``await stream.aclose()`` or leaving the client) to stop buffering;
    an unread stream keeps at most ``maxsize`` ticks (the oldest are dropped and counted).
    """

    __slots__ = ("_dispatcher",)

    def __init__(self, dispatcher: Dispatcher, *args: Any) -> None:
        super().__init__(*args)
        self._dispatcher = dispatcher

    def __aiter__(self) -> Stream[V]:
        return self

    async def __anext__(self) -> Tick[V]:
        queue = self.queue
        if not queue:
            await self.wait()
            if not queue:
                failure = self._dispatcher.failure
                if failure is not None:
                    raise failure
                raise StopAsyncIteration
        tick = queue.popleft()
        tick._route.counters.dispatched += 1
        return tick

    async def __aenter__(self) -> Stream[V]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop receiving; ticks already queued are discarded (and not counted as dropped)."""
        self._dispatcher.remove(self)


class Subscription(_Consumer):
    """A callback registered with ``Realtime.on``. An async one is fed by its own task.

    A sync one, by default (``thread=None``), is called on the loop with each frame's ticks as
    they are queued (a trickle costs no task switch or thread hop per tick), until its calls
    take longer than ``_defaults.INLINE_CALLBACK_LIMIT``: then it moves to a worker thread for
    good. ``thread=True`` runs it in a worker thread from the first tick (for a callback that
    blocks: I/O, a sync order call), ``thread=False`` keeps it on the loop however slow. In a
    worker thread (one of its own) the ticks go in batches, in order: one hop for what a loop
    turn queued (at most ``_defaults.CALLBACK_BATCH``), not one per tick.
    ``await sub.aclose()`` stops it."""

    __slots__ = (
        "batches",
        "dispatcher",
        "errors",
        "fn",
        "inline",
        "is_async",
        "pinned",
        "slow",
        "task",
    )

    def __init__(
        self,
        dispatcher: Dispatcher,
        fn: Callable[[Tick[Any]], Any],
        *args: Any,
        thread: bool | None = None,
    ) -> None:
        super().__init__(*args)
        self.dispatcher = dispatcher
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        self.inline = not self.is_async and thread is not True
        """Called by the dispatcher as each frame's ticks are queued (see :meth:`call_queued`)."""
        self.pinned = thread is False
        """Inline for good: never moved to a worker thread, however slow."""
        self.batches = 0
        """Batches handed to a worker thread so far (one thread hop each)."""
        self.slow = 0
        """Batches in a row over the inline limit (one alone may be the machine's doing)."""
        self.errors = 0
        self.task: asyncio.Task[None] | None = None

    def call_queued(self) -> bool:
        """Call the sync callback with every queued tick, on the loop; False once calls took
        longer than the inline limit in three batches in a row (the caller then moves it to a
        worker thread)."""
        queue, fn = self.queue, self.fn
        start = time.perf_counter()
        n = len(queue)
        while queue:
            tick = queue.popleft()
            try:
                fn(tick)
            except Exception as exc:
                self.failed(tick.type, exc)
            else:
                tick._route.counters.dispatched += 1
        if self.pinned:
            return True
        if time.perf_counter() - start > _defaults.INLINE_CALLBACK_LIMIT * n:
            self.slow += 1
            return self.slow < 3
        self.slow = 0
        return True

    async def aclose(self) -> None:
        """Stop calling the callback; ticks still queued are discarded."""
        self.dispatcher.remove(self)
        if self.task is not None:
            await self.task

    def failed(self, tick_type: str, exc: BaseException) -> None:
        self.counters[tick_type].callback_errors += 1
        self.errors += 1
        # The first failures in full; then one line per thousand, not a flood.
        if self.errors <= 10 or self.errors % 1000 == 0:
            log.error(
                "real-time callback %r failed on a %s tick (%d failures so far)",
                getattr(self.fn, "__qualname__", self.fn),
                tick_type,
                self.errors,
                exc_info=exc,
            )

    async def run(self) -> None:
        queue = self.queue
        worker: _Worker[Tick[Any]] | None = None
        try:
            while True:
                await self.wait()
                if not queue:
                    return
                if self.is_async:
                    tick = queue.popleft()
                    try:
                        await self.fn(tick)
                    except Exception as exc:
                        self.failed(tick.type, exc)
                    else:
                        self.counters[tick.type].dispatched += 1
                    continue
                if worker is None:
                    worker = _Worker(self.fn, asyncio.get_running_loop())
                n = min(len(queue), _defaults.CALLBACK_BATCH)
                batch = [queue.popleft() for _ in range(n)]
                self.batches += 1
                results = await worker.call(batch)
                for tick, error in zip(batch, results, strict=True):
                    if error is None:
                        self.counters[tick.type].dispatched += 1
                    else:
                        self.failed(tick.type, error)
        finally:
            if worker is not None:
                worker.stop()


_Item = TypeVar("_Item")


class _Worker(Generic[_Item]):
    """One sync callback's own thread: batches in through a queue, results back to the loop.
    A hop costs about 40% less CPU than ``run_in_executor``'s (a trickle pays one per frame),
    and a callback that blocks holds no thread another one needs."""

    def __init__(self, fn: Callable[[_Item], Any], loop: asyncio.AbstractEventLoop) -> None:
        self._fn = fn
        self._loop = loop
        self._inbox: SimpleQueue[tuple[list[_Item], asyncio.Future[Any]] | None]
        self._inbox = SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name=f"kiwoom-realtime-callback-{fn!r}", daemon=True
        )
        self._thread.start()

    def call(self, batch: list[_Item]) -> asyncio.Future[list[BaseException | None]]:
        """Run ``batch`` in the thread; the future gets each item's exception or None."""
        done: asyncio.Future[list[BaseException | None]] = self._loop.create_future()
        self._inbox.put((batch, done))
        return done

    def stop(self) -> None:
        """End the thread once the batch it runs (if any) returns."""
        self._inbox.put(None)

    def _run(self) -> None:
        while (job := self._inbox.get()) is not None:
            batch, done = job
            try:
                outcome: Any = _call_each(self._fn, batch)
            except BaseException as exc:  # SystemExit and the like: the loop's to raise
                outcome = exc
            try:
                self._loop.call_soon_threadsafe(_settle, done, outcome)
            except RuntimeError:  # the loop is closed: nobody waits for the outcome
                return


def _settle(done: asyncio.Future[Any], outcome: Any) -> None:
    if done.done():
        return
    if isinstance(outcome, BaseException):
        done.set_exception(outcome)
    else:
        done.set_result(outcome)


def _call_each(fn: Callable[[_Item], Any], batch: list[_Item]) -> list[BaseException | None]:
    # Runs in a worker thread: counters are left to the loop thread.
    out: list[BaseException | None] = []
    for item in batch:
        try:
            fn(item)
        except Exception as exc:
            out.append(exc)
        else:
            out.append(None)
    return out


class _Route:
    """Per real-time type: its decoders and the consumers that want it."""

    __slots__ = (
        "consumers",
        "convert",
        "counters",
        "decode",
        "decode_wire",
        "tick",
        "wire_consumers",
    )

    def __init__(
        self,
        decode: Decode | None,
        typed: Typed | None,
        counters: TypeCounters,
        tick: type[Tick[Any]],
    ) -> None:
        self.tick = tick
        """The type's Tick class (ticks built here, on the roads that decode as sent)."""
        tick._route = self
        self.decode = decode
        self.convert = typed.convert if typed else None
        self.decode_wire = typed.decode_wire if typed else None
        self.counters = counters
        self.consumers: list[_Consumer] = []
        """Consumers of typed values."""
        self.wire_consumers: list[_Consumer] = []
        """Consumers of wire values."""

    def add(self, consumer: _Consumer) -> None:
        (self.wire_consumers if consumer.wire else self.consumers).append(consumer)

    def discard(self, consumer: _Consumer) -> None:
        for consumers in (self.consumers, self.wire_consumers):
            if consumer in consumers:
                consumers.remove(consumer)


class Dispatcher:
    """Decodes ``REAL`` items into typed ticks and offers them to every matching consumer."""

    def __init__(
        self,
        decoder_for: Callable[[str], Decode | None],
        typed_for: Callable[[str], Typed | None],
        known_types: tuple[str, ...] = (),
        name_of: Callable[[str], str] = lambda tick_type: "",
    ) -> None:
        self._decoder_for = decoder_for
        self._typed_for = typed_for
        self._name_of = name_of
        self._known_types = known_types
        self._frames: TypedFrames | None = None
        self.stripped: StrippedFrames | None = None
        """The stripped road, when typed values are wanted (None while a rebuild is due)."""
        self._frames_stale = True
        self._tick_classes: dict[tuple[str, Any], type[Tick[Any]]] = {}
        """The stripped roads' tick classes (see ``StrippedFrames``), kept across rebuilds."""
        self._routes: dict[str, _Route] = {}
        self.counters: dict[str, TypeCounters] = {}
        self._consumers: list[_Consumer] = []
        self._raw: list[tuple[deque[str | bytes], asyncio.Event, int]] = []
        self._closed_tasks: list[asyncio.Task[Any]] = []  # callbacks finishing their queue
        self.raw_dropped = 0
        self.has_raw = False
        self.failure: BaseException | None = None
        self._inline: list[Subscription] = []
        """Sync callbacks called on the loop (see :class:`Subscription`)."""
        self._loop: asyncio.AbstractEventLoop | None = None

    def _route(self, tick_type: str) -> _Route:
        route = self._routes.get(tick_type)
        if route is None:
            counters = self.counters.setdefault(tick_type, TypeCounters())
            route = self._routes[tick_type] = _Route(
                self._decoder_for(tick_type),
                self._typed_for(tick_type),
                counters,
                subclass(tick_type, self._name_of(tick_type)),
            )
            for consumer in self._consumers:
                if tick_type in consumer.types:
                    route.add(consumer)
        return route

    def handle(self, raw: str | bytes) -> Control | Head | None:
        """Decode one frame; a ``REAL`` frame is dispatched here, any other is returned.

        Raises one of ``MALFORMED`` (see ``_frames``) for a malformed frame.
        """
        if self._frames_stale:
            self._rebuild_frames()
        stripped = self.stripped
        if stripped is not None:
            ticks = stripped.decode(raw)
            if ticks is not None:
                self.dispatch_ready(ticks)
                return None
        return self.handle_as_sent(raw)

    def handle_as_sent(self, raw: str | bytes) -> Control | Head | None:
        """:meth:`handle` without the stripped road (the caller tried it)."""
        frames = self._frames
        frame = decode_frame(raw) if frames is None else frames.decode(raw)
        cls = type(frame)
        if frames is not None and cls is frames.real:
            self.dispatch_typed(frame.data, frames.type_of)  # type: ignore[union-attr]
            return None
        if cls is Real:
            self.dispatch(frame.data)  # type: ignore[union-attr]
            return None
        return frame  # type: ignore[return-value]

    def _rebuild_frames(self) -> None:
        # Consumed types decode into their wire Struct; the other known types keep their values
        # raw (skipped cheaply), so a registered but unconsumed type does not force the slow road.
        consumed = {t for c in self._consumers for t in c.types}
        wire_types: dict[str, Any] = {}
        typed_types: dict[str, type[msgspec.Struct]] = {}
        for t in sorted(consumed):
            typed = self._typed_for(t)
            if typed is not None:
                wire_types[t] = typed.wire
                typed_types[t] = typed.typed
        if wire_types:
            for t in self._known_types:
                wire_types.setdefault(t, msgspec.Raw)
        self._frames = TypedFrames(wire_types) if wire_types else None
        # Typed consumers take the stripped road; types someone wants in wire form are read
        # as sent (the wire form keeps every '+').
        wire_wanted = {t for c in self._consumers if c.wire for t in c.types}
        self.stripped = (
            StrippedFrames(
                typed_types,
                self._known_types,
                wire_wanted,
                self._name_of,
                self._tick_classes,
            )
            if set(typed_types) - wire_wanted
            else None
        )
        self._frames_stale = False

    def dispatch_ready(self, ticks: list[Tick[Any]]) -> None:
        """Like :meth:`dispatch`, for ticks decoded ready (values typed, or raw if unconsumed)."""
        for tick in ticks:
            route = tick._route
            if route is None:  # the first tick of a class the stripped road made
                route = type(tick)._route = self._route(tick.type)
            route.counters.received += 1
            consumers = route.consumers
            if consumers:
                if not tick.item:
                    tick.item = _item_of(tick.values)
                for consumer in consumers:
                    # Inline offer() for the common case: no filter, room, nobody waiting.
                    queue = consumer.queue
                    if consumer.plain and len(queue) < consumer.maxsize and not consumer.waiting:
                        queue.append(tick)
                    else:
                        consumer.offer(tick)
        if self._inline:
            self._call_inline()

    def dispatch_typed(self, items: list[Any], type_of: dict[type, str]) -> None:
        """Like :meth:`dispatch`, for items whose values already decoded into wire Structs."""
        routes = self._routes
        for it in items:
            tick_type = type_of[type(it)]
            route = routes.get(tick_type) or self._route(tick_type)
            counters = route.counters
            counters.received += 1
            if route.wire_consumers:
                wire_tick = route.tick(it.values, it.item)
                for consumer in route.wire_consumers:
                    consumer.offer(wire_tick)
            consumers = route.consumers
            if not consumers:
                continue
            try:
                values = route.convert(it.values)  # type: ignore[misc]
            except Exception as exc:
                self._decode_failed(tick_type, counters, exc)
                continue
            tick = route.tick(values, it.item or _item_of(values))
            for consumer in consumers:
                consumer.offer(tick)
        if self._inline:
            self._call_inline()

    def _call_inline(self) -> None:
        """Call the inline sync callbacks with the frame's ticks: no task, no thread hop, so a
        trickle costs per tick what a burst does."""
        for sub in self._inline:
            if sub.queue and not sub.call_queued():
                self._to_thread(sub)
                return  # the list changed; the others' ticks wait for the next frame

    def _to_thread(self, sub: Subscription) -> None:
        """Move a sync callback that took too long off the loop, into a worker thread."""
        log.warning(
            "real-time callback %r took over %.0f ms a call: it now runs in a worker thread",
            getattr(sub.fn, "__qualname__", sub.fn),
            _defaults.INLINE_CALLBACK_LIMIT * 1e3,
        )
        sub.inline = False
        if sub in self._inline:
            self._inline.remove(sub)
        assert self._loop is not None
        sub.task = self._loop.create_task(sub.run(), name=f"kiwoom-realtime-callback-{sub.fn!r}")

    def _decode_failed(self, tick_type: str, counters: TypeCounters, exc: Exception) -> None:
        counters.decode_errors += 1
        if counters.decode_errors <= 10 or counters.decode_errors % 1000 == 0:
            log.warning("skipped a %s item that did not decode: %s", tick_type, exc)

    def dispatch(self, items: list[Item]) -> None:
        """Hand the items of one ``REAL`` frame to their consumers (never waits)."""
        routes = self._routes
        for it in items:
            route = routes.get(it.type) or self._route(it.type)
            counters = route.counters
            counters.received += 1
            if route.wire_consumers:
                try:
                    wire = route.decode_wire(it.values)  # type: ignore[misc]
                except Exception as exc:
                    self._decode_failed(it.type, counters, exc)
                    continue
                wire_tick = route.tick(wire, it.item)
                for consumer in route.wire_consumers:
                    consumer.offer(wire_tick)
            consumers = route.consumers
            if not consumers:
                continue
            try:
                values = route.decode(it.values)  # type: ignore[misc]
            except Exception as exc:
                self._decode_failed(it.type, counters, exc)
                continue
            tick = route.tick(values, it.item or _item_of(values))
            for consumer in consumers:
                consumer.offer(tick)
        if self._inline:
            self._call_inline()

    def dispatch_raw(self, frame: str | bytes) -> None:
        for queue, wake, maxsize in self._raw:
            if len(queue) >= maxsize:
                queue.popleft()
                self.raw_dropped += 1
            queue.append(frame)
            wake.set()

    def _add(self, consumer: _Consumer) -> None:
        for t in consumer.types:
            self.counters.setdefault(t, TypeCounters())
        self._consumers.append(consumer)
        # Built now, not at the next frame: the first build of a type's decoders (a few ms
        # each) is the subscriber's cost, not a stall of the receive loop.
        self._rebuild_frames()
        for tick_type, route in self._routes.items():
            if tick_type in consumer.types:
                route.add(consumer)

    def remove(self, consumer: _Consumer) -> None:
        consumer.close()
        consumer.queue.clear()
        if consumer in self._inline:
            self._inline.remove(consumer)
        if consumer in self._consumers:
            self._consumers.remove(consumer)
            self._rebuild_frames()
        for route in self._routes.values():
            route.discard(consumer)

    def stream(
        self,
        types: frozenset[str],
        codes: frozenset[str] | None,
        predicate: Predicate | None,
        maxsize: int,
        wire: bool = False,
    ) -> Stream[Any]:
        s: Stream[Any] = Stream(self, types, codes, predicate, maxsize, self.counters)
        s.wire = wire
        self._add(s)
        return s

    def callback(
        self,
        fn: Callable[[Tick[Any]], Any],
        types: frozenset[str],
        codes: frozenset[str] | None,
        predicate: Predicate | None,
        maxsize: int,
        wire: bool = False,
        thread: bool | None = None,
    ) -> Subscription:
        cb = Subscription(self, fn, types, codes, predicate, maxsize, self.counters, thread=thread)
        cb.wire = wire
        self._loop = asyncio.get_running_loop()
        self._add(cb)
        if cb.inline:
            self._inline.append(cb)
        else:
            cb.task = self._loop.create_task(cb.run(), name=f"kiwoom-realtime-callback-{fn!r}")
        return cb

    def raw_callback(self, fn: Callable[[str | bytes], Any], maxsize: int) -> StopRaw:
        """Feed every frame, as received, to ``fn``; returns a coroutine function that stops it."""
        queue: deque[str | bytes] = deque()
        wake = asyncio.Event()
        entry = (queue, wake, maxsize)
        self._raw.append(entry)
        self.has_raw = True
        is_async = inspect.iscoroutinefunction(fn)
        loop = asyncio.get_running_loop()
        stopped = False

        async def run() -> None:
            # A sync callback gets a thread of its own, fed in batches as a tick callback is.
            worker: _Worker[str | bytes] | None = None
            try:
                while True:
                    while not queue and not stopped:
                        wake.clear()
                        await wake.wait()
                    if not queue:
                        return
                    if is_async:
                        frame = queue.popleft()
                        try:
                            await fn(frame)
                        except Exception:
                            log.exception("raw-frame callback %r failed", fn)
                        continue
                    if worker is None:
                        worker = _Worker(fn, loop)
                    n = min(len(queue), _defaults.CALLBACK_BATCH)
                    for error in await worker.call([queue.popleft() for _ in range(n)]):
                        if error is not None:
                            log.error("raw-frame callback %r failed", fn, exc_info=error)
            finally:
                if worker is not None:
                    worker.stop()

        task = loop.create_task(run(), name="kiwoom-realtime-raw")

        async def stop(drain: bool = False) -> None:
            nonlocal stopped
            stopped = True
            if entry in self._raw:
                self._raw.remove(entry)
            self.has_raw = bool(self._raw)
            if not drain:
                queue.clear()
            wake.set()
            if asyncio.current_task() is not task:  # not from the callback itself
                await task

        return stop

    async def close(self, failure: BaseException | None = None, *, wait: bool = True) -> None:
        """Stop every consumer: streams end (or raise ``failure``), callbacks finish their
        queue; ``wait``: for them to finish (all but the one calling, which may be a callback
        closing the client)."""
        self.failure = failure
        for sub in list(self._inline):  # callbacks finish their queue
            if sub.queue and not sub.call_queued():
                self._to_thread(sub)
        self._closed_tasks = [t for t in self._closed_tasks if not t.done()]
        for consumer in list(self._consumers):
            consumer.close()
            if isinstance(consumer, Subscription) and consumer.task is not None:
                self._closed_tasks.append(consumer.task)
        if wait:
            await self.finished()

    async def finished(self) -> None:
        """Wait until the callbacks stopped by :meth:`close` finished their queue (all but
        the one calling, which may be a callback closing the client)."""
        me = asyncio.current_task()
        if tasks := [t for t in self._closed_tasks if t is not me]:
            await asyncio.gather(*tasks, return_exceptions=True)


def _item_of(values: Any) -> str:
    # Condition-search events name their code in the values (FID 9001), not in ``item``.
    return getattr(values, "stk_cd", None) or ""
