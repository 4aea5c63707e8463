"""Operator tooling that never runs inside a Lambda: the admin CLI (``python -m ops.admin``) and the
demo data set. Not part of the layer: it imports ``recaudo`` from the layer's source folder, which
this bootstrap puts on ``sys.path`` so the commands work from the repository root."""

import sys
from pathlib import Path

_LAYER_SOURCE = str(Path(__file__).resolve().parent.parent / "layers" / "shared" / "python")
if _LAYER_SOURCE not in sys.path:
    sys.path.insert(0, _LAYER_SOURCE)
