import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

df = pd.read_csv("data.csv")

labels = df["attribute"].tolist()
models = [c for c in df.columns if c != "attribute"]
angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False).tolist()
angles += angles[:1]
colors = ["tab:blue", "tab:red", "tab:green"]

fig, ax = plt.subplots(figsize=(8, 8), subplot_kw={"projection": "polar"})
for model, color in zip(models, colors):
    values = df[model].tolist()
    values += values[:1]
    ax.plot(angles, values, color=color, linewidth=2, label=model)
    ax.fill(angles, values, color=color, alpha=0.2)

ax.set_xticks(angles[:-1])
ax.set_xticklabels(labels, fontsize=11)
ax.set_ylim(0, 10)
ax.set_yticks([2, 4, 6, 8, 10])
ax.set_yticklabels(["2", "4", "6", "8", "10"], color="gray", fontsize=9)
ax.set_title("Smartphone Review Scores", fontsize=15, pad=25)
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(models), frameon=False)
plt.tight_layout()
plt.show()
