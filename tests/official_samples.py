"""DashScope's official first-call samples, exactly as its documentation publishes them
(Beijing region, Python): the page learners are sent to from the course's sources.

Sources (Alibaba Cloud Model Studio, 「通义千问 API 参考」, the samples the getting-started page
「首次调用千问 API」 shows): native, DashScope SDK:
https://help.aliyun.com/zh/model-studio/qwen-api-reference ; OpenAI-compatible:
https://help.aliyun.com/document_detail/2713154.html
Kept unchanged on purpose (long lines and comments included): tests/test_official_samples.py
runs them in replay mode, and tools/official_first_call.ipynb authors their recording.
"""

NATIVE = '''import os
import dashscope

messages = [
    {'role': 'system', 'content': 'You are a helpful assistant.'},
    {'role': 'user', 'content': '你是谁？'}
]
response = dashscope.Generation.call(
    # 若没有配置环境变量，请用百炼 API Key 将下行替换为：api_key="sk-xxx",
    api_key=os.getenv('DASHSCOPE_API_KEY'),
    model="qwen-plus", # 此处以 qwen-plus 为例，可按需更换模型名称。模型列表：https://help.aliyun.com/zh/model-studio/getting-started/models
    messages=messages,
    result_format='message'
    )
print(response)
'''

COMPATIBLE = '''import os
from openai import OpenAI

client = OpenAI(
    # 若没有配置环境变量，请用百炼API Key将下行替换为：api_key="sk-xxx"
    api_key=os.getenv("DASHSCOPE_API_KEY"),
    base_url="https://dashscope.aliyuncs.com/compatible-mode/v1",
)

completion = client.chat.completions.create(
    # 模型列表：https://help.aliyun.com/zh/model-studio/getting-started/models
    model="qwen-plus",
    messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "你是谁？"},
    ]
)
print(completion.model_dump_json())
'''

# The one-line change the kit's hint shows (helpers/notebook_errors.py).
HARD_CODED = 'base_url="https://dashscope.aliyuncs.com/compatible-mode/v1",'
FIXED_LINE = 'base_url=os.environ["OPENAI_BASE_URL"],'
COMPATIBLE_FIXED = COMPATIBLE.replace(HARD_CODED, FIXED_LINE)
assert COMPATIBLE_FIXED != COMPATIBLE
