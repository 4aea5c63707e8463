"""The CDK app. The shared layer's ``recaudo`` package is the single source of table schemas and error
codes, so the app imports it from the layer's source folder."""

import sys
from pathlib import Path

_LAYER_SOURCE = str(Path(__file__).resolve().parent.parent / "layers" / "shared" / "python")
if _LAYER_SOURCE not in sys.path:
    sys.path.insert(0, _LAYER_SOURCE)
