"""Helpers kept for trace-opt compatibility (``opto.utils.llm``)."""
