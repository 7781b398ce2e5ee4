"""One module per tab: UI wiring only; the work lives in `shared/`."""
