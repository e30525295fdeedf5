"""Reference solutions of lesson 12's exercises: exercise name → the learner cell's source."""

SOLUTIONS = {
    "LoRA 参数量": '''
def lora_trainable(layers, shapes, r):
    """Trainable LoRA parameters in all layers; shapes: the (d, k) adapted per layer."""
    return layers * sum(r * (d + k) for d, k in shapes)
''',
}
