"""Reference solutions of lesson 12's exercises, keyed by exercise id (see CONTRIBUTING.md)."""

SOLUTIONS = {
    "12-1": '''\
# 练习 1：参考答案
def lora_trainable(layers, shapes, r):
    """Trainable LoRA parameters in all layers; shapes: the (d, k) adapted per layer."""
    return layers * sum(r * (d + k) for d, k in shapes)
''',
}
