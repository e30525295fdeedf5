"""Reference solutions of lesson 13's exercises, keyed by exercise id (see CONTRIBUTING.md)."""

SOLUTIONS = {
    "13-1": '''\
# 练习 1：参考答案
def my_footer(answer: rag.RagAnswer) -> str:
    """The line under an answer: its sources, or why it was not answered."""
    if answer.refused:
        return project2.NO_ANSWER
    return rag.format_sources(answer.sources)
''',
    "13-2": '''\
# 练习 2：参考答案
def my_ask_kb(question, history, store, on_text) -> rag.RagAnswer:
    """One customer question answered from the knowledge base, streamed to on_text."""
    stream = rag.stream_answer(question, store, history=history)
    for piece in stream:
        on_text(piece)
    return stream.answer
''',
    "13-3": '''\
scores = rag.top_scores(project2_checks.questions(), store)  # measured on this index


# 练习 3：参考答案
def refused_shares(scores, threshold) -> tuple[float, float]:
    """(share of unanswerable questions refused, share of answerable ones refused)."""
    unanswerable = [s for s, answerable in scores if not answerable]
    answerable = [s for s, ok in scores if ok]
    return (sum(s < threshold for s in unanswerable) / len(unanswerable),
            sum(s < threshold for s in answerable) / len(answerable))
''',
}
