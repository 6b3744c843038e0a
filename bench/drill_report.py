"""What a drill measured (`Figures`) and its report, as bench/drills.py prints it and docs/operations.md quotes it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figures:
    sent: int = 0
    acked: int = 0
    stored: int = 0
    stored_twice: int = 0
    expected: int = 0
    live: int = 0
    caught_up: int = 0
    lost: int = 0
    doubled: int = 0
    dropped_sockets: int = 0
    reconnected: int = 0
    storm_seconds: float = 0.0
    reconnect_p50: float = 0.0
    reconnect_p99: float = 0.0
    refused: int = 0
    refusals: dict = field(default_factory=dict)
    close_codes: dict = field(default_factory=dict)  # close code -> sockets the server closed with it
    send_errors: int = 0
    catch_up_requests: int = 0
    ack_ms: list = field(default_factory=list)
    deliver_ms: list = field(default_factory=list)
    tracebacks: int = 0
    tracebacks_at_close: int = 0  # logged while the drill closed every socket at once
    lost_examples: list = field(default_factory=list)  # (user, conversation, seq, reconnected, node, last seq seen)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else 0.0


def report(name: str, f: Figures, setup: str) -> str:
    lines = [
        f"{name}: {setup}",
        (
            f"  sent {f.sent}, acked {f.acked}, stored {f.stored} (stored twice: {f.stored_twice}); "
            f"send errors answered and retried: {f.send_errors}"
        ),
        (
            f"  deliveries expected {f.expected}: live {f.live}, recovered by catch-up {f.caught_up}, "
            f"LOST {f.lost}, DOUBLED {f.doubled}"
        ),
        (
            f"  reconnect storm: {f.reconnected} of {f.dropped_sockets} dropped sockets back and caught up "
            f"{f.storm_seconds:.1f} s after the fault began (per socket p50 {f.reconnect_p50:.1f} s, "
            f"p99 {f.reconnect_p99:.1f} s); {f.catch_up_requests} catch-up requests"
        ),
        f"  failed connection attempts: {f.refused}" + "".join(f"; {n} {k}" for k, n in f.refusals.items()),
        "  sockets closed by the server: "
        + (", ".join(f"{n} with {code or 'no close frame'}" for code, n in f.close_codes.items()) or "none"),
    ]
    if f.ack_ms:
        lines.append(
            f"  ack from the scheduled send: p50 {pct(f.ack_ms, 50):.0f} ms, p99 {pct(f.ack_ms, 99):.0f} ms, "
            f"max {max(f.ack_ms) / 1000:.1f} s; live delivery p50 {pct(f.deliver_ms, 50):.0f} ms, "
            f"p99 {pct(f.deliver_ms, 99):.0f} ms"
        )
    lines.append(
        f"  server tracebacks in the nodes' logs: {f.tracebacks} during the drill, "
        f"{f.tracebacks_at_close} while it closed every socket at the end"
    )
    if f.lost_examples:
        lines.append(
            "  lost, e.g. (user, conversation, seq, reconnects, caught up to seq, first seq pushed on "
            "each socket): " + ", ".join(map(str, f.lost_examples[:10]))
        )
    return "\n".join(lines)
