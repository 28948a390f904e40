import pandas as pd
import plotly.express as px

df = pd.read_csv("data.csv")

fig = px.sunburst(df, path=["department", "team"], values="employees", color="department",
                  color_discrete_sequence=px.colors.qualitative.Set2,
                  title="Company Headcount by Department and Team")
fig.update_traces(texttemplate="%{label}<br>%{value}", marker=dict(line=dict(color="white", width=1.5)))
fig.update_layout(width=800, height=800, title_x=0.5, margin=dict(t=70, l=20, r=20, b=20))
fig.show()
