"""The contexts' file formats that are not JSON (CSV, XML): pure readers and writers, no I/O, one
module per context (``formats/<context>.py``). JSON bodies are pydantic models in ``recaudo.models``."""
