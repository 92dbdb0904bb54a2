"""The AI first line: LLM providers behind one contract, the offline engine, triage."""
