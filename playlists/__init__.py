"""Plan model, timeline, segment boundaries and m3u8 writing: everything decided before a pixel is drawn."""
