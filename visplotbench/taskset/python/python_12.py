import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

df = pd.read_csv("data.csv")
df = df.sort_values("avg_commute_min", ascending=False)

sns.set_theme(style="whitegrid")
fig, ax = plt.subplots(figsize=(9, 6))
sns.barplot(data=df, x="avg_commute_min", y="city", hue="city", palette="rocket", legend=False, ax=ax)
for container in ax.containers:
    ax.bar_label(container, fmt="%.1f", padding=3)
ax.set_title("Average One-Way Commute Time", fontsize=14)
ax.set_xlabel("Minutes")
ax.set_ylabel("")
ax.yaxis.grid(False)
plt.tight_layout()
plt.show()
