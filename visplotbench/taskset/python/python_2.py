import matplotlib.pyplot as plt
import pandas as pd

df = pd.read_csv("data.csv")

cities = [c for c in df.columns if c != "month"]
markers = ["o", "s", "^", "D"]
colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]

fig, ax = plt.subplots(figsize=(11, 6))
for city, marker, color in zip(cities, markers, colors):
    ax.plot(df["month"], df[city], marker=marker, linewidth=2, color=color, label=city)

ax.axhline(0, color="dimgray", linestyle="--", linewidth=1)
ax.set_title("Average Monthly Temperature in Four Cities", fontsize=14)
ax.set_xlabel("Month")
ax.set_ylabel("Temperature (°C)")
ax.grid(True, color="lightgray", alpha=0.7)
ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
plt.tight_layout()
plt.show()
