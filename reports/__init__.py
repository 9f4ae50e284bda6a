"""Top layer: renders reports and figures from stored results, and holds the command line."""
