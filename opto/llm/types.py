"""Old home of the LLM layer's vocabulary, kept so imports written before opto.llm.protocol work.

New code imports from ``opto.llm`` (or opto.llm.protocol / opto.llm.errors / opto.llm.transport).
The failure class is ``LMFailure`` now; the old name ``Failure`` is gone on purpose (three layers
had a ``Failure``).
"""

from opto.llm.errors import BudgetExceeded, LMCallError, LMConfigError, LMError
from opto.llm.protocol import Choice, FailureKind, LMFailure, Message, Request, Response, Usage
from opto.llm.transport import RawReply, TransportFailure

__all__ = [
    "BudgetExceeded",
    "Choice",
    "FailureKind",
    "LMCallError",
    "LMConfigError",
    "LMError",
    "LMFailure",
    "Message",
    "RawReply",
    "Request",
    "Response",
    "TransportFailure",
    "Usage",
]
