import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

df = pd.read_csv("data.csv")

sns.set_theme(style="whitegrid")
fig, ax = plt.subplots(figsize=(9, 6))
sns.boxplot(data=df, x="courier", y="delivery_minutes", hue="courier", palette="Set2", legend=False, ax=ax)
sns.stripplot(data=df, x="courier", y="delivery_minutes", color="#333333", size=4, alpha=0.6, jitter=0.2, ax=ax)
ax.set_title("Delivery Time by Courier", fontsize=14)
ax.set_xlabel("Courier")
ax.set_ylabel("Delivery time (minutes)")
plt.tight_layout()
plt.show()
