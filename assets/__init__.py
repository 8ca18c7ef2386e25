"""Exercise catalogue, clip files and sample clips, and the plan store."""
