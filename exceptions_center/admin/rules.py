"""Rule admin (catalogue editing, dry run, backtest)."""
