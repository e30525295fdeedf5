"""大模型工程化之路 — the small helper package the lessons import.

Lesson order: config (00) → doctor (00) → llm (01, 03) → conversation, tokens (02) →
display (03, 06) → ending (04) → errors (05) → chat (06).
"""
from .config import DEFAULT_MODEL, Settings, mask_key, setup
from .conversation import Conversation
from .doctor import doctor
from .ending import FAREWELL, EndDetector, is_goodbye
from .errors import LLMError
from .llm import Reply, chat, stream_chat
from .tokens import METER, UsageMeter, count_message_tokens, count_tokens, estimate_cost

__all__ = [
    "setup", "Settings", "DEFAULT_MODEL", "mask_key", "doctor",
    "chat", "stream_chat", "Reply",
    "Conversation", "count_tokens", "count_message_tokens", "estimate_cost", "UsageMeter", "METER",
    "FAREWELL", "EndDetector", "is_goodbye",
    "LLMError",
]
