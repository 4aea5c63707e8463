"""CPS recargas: channels top up basic services; we forward each top-up to the carrier exactly once."""
