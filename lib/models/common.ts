/** Hidden-layer nonlinearities. `prelu` is one learnable slope shared by the whole layer. */
export type HiddenActivation = 'sigmoid' | 'tanh' | 'relu' | 'prelu' | 'linear';
/** What the last layer emits: `softmax`/`sigmoid` give activations, `linear` gives logits. */
export type OutputActivation = 'softmax' | 'sigmoid' | 'linear';

export const HIDDEN_ACTIVATIONS: readonly HiddenActivation[] = ['sigmoid', 'tanh', 'relu', 'prelu', 'linear'];
export const OUTPUT_ACTIVATIONS: readonly OutputActivation[] = ['softmax', 'sigmoid', 'linear'];
