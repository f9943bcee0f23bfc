"""The TUI's pages: dashboard, lists (customers, workers), record pages, help."""
