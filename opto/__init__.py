"""opto: optimize programs the way PyTorch trains networks.

``from opto import trace`` gives the tracing API (drop-in for Microsoft Trace's ``trace-opt``);
``opto.context(...)`` scopes settings such as the default LM.
"""

from opto.context import Settings, context, settings

__version__ = "0.1.0"

__all__ = ["Settings", "context", "settings", "__version__"]
