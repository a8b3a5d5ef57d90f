"""Work that runs outside a request and owns its transactions: plan runs (thread, RQ worker, CLI)."""
