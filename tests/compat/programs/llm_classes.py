# ruff: noqa  -- a trace-opt program kept as published, not restyled
# trace-opt's model objects as its docs and users write them: a subclass of opto.utils.llm.AbstractModel
# around any chat-completions callable, and LLM()/CustomLLM() chosen by trace-opt's variables.
# `chat` stands for the user's client (an OpenAI client's chat.completions.create); it is given
# to the program by the test.
from opto import trace
from opto.optimizers import OptoPrime
from opto.utils.llm import AbstractModel, LLM, CustomLLM


class MyModel(AbstractModel):
    def __init__(self, reset_freq=None):
        super().__init__(lambda: chat, reset_freq)

    @property
    def model(self):
        # text responses are at ['choices'][0]['message']['content'], as trace-opt requires
        return lambda *args, **kwargs: self._model(*args, **kwargs)


x = trace.node(1.0, trainable=True)
optimizer = OptoPrime([x], llm=MyModel(), memory_size=2)
for _ in range(2):
    y = x * 2
    optimizer.zero_feedback()
    optimizer.backward(y, "The output should be 10.")
    optimizer.step()
print(x.data)

llm = CustomLLM()  # TRACE_CUSTOMLLM_MODEL / TRACE_CUSTOMLLM_URL / TRACE_CUSTOMLLM_API_KEY
default_llm = LLM()
response = llm(messages=[{"role": "user", "content": "Say hi"}], max_tokens=10)
print(response.choices[0].message.content)
