"""The AI beside the operator: suggested replies, rewrites, translations, summaries."""
