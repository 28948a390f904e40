import pandas as pd
import plotly.express as px

df = pd.read_csv("data.csv")
df["root"] = "Budget"

fig = px.treemap(df, path=["root", "category", "item"], values="amount_usd", color="category",
                 color_discrete_sequence=px.colors.qualitative.Pastel,
                 title="Monthly Household Budget (USD)")
fig.update_traces(texttemplate="%{label}<br>$%{value}<br>%{percentParent:.0%}",
                  textfont=dict(size=14, color="#222222"))
fig.update_layout(width=900, height=600, margin=dict(t=60, l=10, r=10, b=10))
fig.show()
