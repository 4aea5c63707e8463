"""Domain records (dataclasses, cheap to import) and API reply models (pydantic)."""
