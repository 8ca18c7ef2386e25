"""The Starlette app that turns plans into HLS presentations and serves them."""
