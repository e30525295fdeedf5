"""Reference solutions of lesson 06's exercises, keyed by exercise id.

Each value replaces the learner cell whose metadata says ``"exercise": "<id>"``;
tests/test_exercises.py runs the lesson with these in place and expects every check to pass,
and checks that the shipped lesson reports 「还没完成」. Keep them out of the lesson itself.
"""

SOLUTIONS = {
    "06-1": '''\
# 练习 1：参考答案
def chat_turn(conversation: helpers.Conversation, user_text: str,
              detector: helpers.EndDetector, on_text=None) -> tuple[str, bool]:
    """One turn of Project 1: (answer, ended)."""
    if detector.decide(user_text).ends:  # 1. a goodbye costs no model call
        conversation.add_user(user_text)
        conversation.add_assistant(helpers.FAREWELL)
        return helpers.FAREWELL, True
    conversation.add_user(user_text)  # 2. history
    try:  # 3. the streamed answer
        reply = helpers.stream_chat(conversation.messages_for_request(), on_text=on_text)
    except helpers.LLMError as err:  # 4. the history stays consistent
        if err.partial_text:
            conversation.add_assistant(err.partial_text, partial=True)
        else:
            conversation.pop_last_user()
        return str(err), False
    conversation.add_assistant(reply.text)
    return reply.text, False
''',
    "06-2": '''\
# 练习 2：参考答案
def last_complete_answer(conversation: helpers.Conversation) -> str | None:
    for turn in reversed(conversation.turns):
        if turn.role == "assistant" and not turn.partial:
            return turn.content
    return None
''',
}
