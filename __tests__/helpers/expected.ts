/** Exact parameter counts of ../shared/RECIPES.md, the figures every preset must match. */
export const RECIPE_PARAMS: Readonly<Record<string, number>> = {
  mlp: 31_810,
  'deep-mlp': 1_196_810,
  'tanh-mlp': 42_310,
  'mse-mlp': 158_800,
  'two-layer-net': 39_760,
  'prelu-mlp': 203_531,
  cnn: 3_274_634,
};
