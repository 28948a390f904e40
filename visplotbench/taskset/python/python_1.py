import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

df = pd.read_csv("data.csv")

quarters = list(dict.fromkeys(df["quarter"]))
regions = list(dict.fromkeys(df["region"]))
colors = ["steelblue", "darkorange", "seagreen", "crimson"]
x = np.arange(len(quarters))
width = 0.2

fig, ax = plt.subplots(figsize=(10, 6))
for i, region in enumerate(regions):
    sub = df[df["region"] == region].set_index("quarter").loc[quarters]
    offset = (i - (len(regions) - 1) / 2) * width
    bars = ax.bar(x + offset, sub["revenue_musd"], width, label=region, color=colors[i])
    ax.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)

ax.set_xticks(x)
ax.set_xticklabels(quarters)
ax.set_xlabel("Quarter")
ax.set_ylabel("Revenue (million USD)")
ax.set_title("Quarterly Revenue by Region (2023)", fontweight="bold")
ax.set_ylim(0, df["revenue_musd"].max() * 1.2)
ax.legend(title="Region", loc="upper left", ncol=len(regions))
ax.yaxis.grid(True, linestyle="--", alpha=0.5)
ax.set_axisbelow(True)
ax.spines["top"].set_visible(False)
ax.spines["right"].set_visible(False)
plt.tight_layout()
plt.show()
