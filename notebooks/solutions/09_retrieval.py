"""Reference solutions of lesson 09's exercises, keyed by exercise id (see 07's file)."""

SOLUTIONS = {
    "09-1": '''\
# 练习 1：参考答案
def top_sections(question, k=3):
    seen = []
    for hit in hybrid(question):
        name = f"{hit.chunk.doc}#{hit.chunk.section}"
        if name not in seen:
            seen.append(name)
    return seen[:k]
''',
    "09-2": '''\
# 练习 2：参考答案
def misses(search, kind="paraphrase", k=5):
    found = []
    for q in questions:
        if q["type"] != kind:
            continue
        top = [hit.chunk for hit in search(q["question"])][:k]
        if not any(retrieval.is_relevant(c, label, docs)
                   for c in top for label in q["relevant"]):
            found.append(q["question"])
    return found
''',
}
