"""Reference solutions of lesson 10's exercises, keyed by exercise id (see CONTRIBUTING.md)."""

SOLUTIONS = {
    "10-1": '''\
# 练习 1：参考答案
def count_refusals(scores, threshold):
    counts = {"refused_unanswerable": 0, "refused_answerable": 0}
    for score, answerable in scores:
        if score < threshold:
            key = "refused_answerable" if answerable else "refused_unanswerable"
            counts[key] += 1
    return counts
''',
    "10-2": '''\
# 练习 2：参考答案
import re


def sources_of(text, hits):
    numbers = [int(n) for n in re.findall(r"\\[(\\d+)\\]", text)]
    labels = [rag.label(hits[n - 1]) for n in numbers if 1 <= n <= len(hits)]
    return list(dict.fromkeys(labels))
''',
}
