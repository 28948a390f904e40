import evaluate
import gradio as gr

metric = evaluate.load(__file__.removesuffix("app.py") + "visplotbench.py")


def score(reply, task_id):
    return metric.compute(predictions=[reply], references=[task_id], allow_code_execution=True)


gr.Interface(score, [gr.Code(label="Reply or code"), gr.Textbox("svg_1", label="Task id")], "json").launch()
