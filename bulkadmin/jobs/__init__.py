"""Jobs: the runner that records every operation as a `Job`, locks, and the background tasks."""
