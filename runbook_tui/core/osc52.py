"""Copy to the clipboard over SSH: the OSC 52 escape sequence the terminal acts on.

The terminal at the engineer's end (not the host we run on) puts the text on
its clipboard, so this works through SSH. Inside tmux the sequence is wrapped
in a DCS passthrough so tmux hands it on to the outer terminal.
"""

from __future__ import annotations

import base64
import os

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"


def osc52_copy(text: str, *, tmux: bool | None = None) -> str:
    """The escape sequence that copies ``text``; ``tmux`` defaults to whether ``$TMUX`` is set."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    sequence = f"{ESC}]52;c;{payload}{BEL}"
    in_tmux = bool(os.environ.get("TMUX")) if tmux is None else tmux
    if in_tmux:
        # tmux passes a DCS "tmux;" payload through with every ESC doubled.
        return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"
    return sequence
