// Expression parameters of the demo faces: the ten drawing parameters, the seven ABAW-7 classes
// as prototype points in that space, and blending between them. Pure data and arithmetic.

/** Expression parameters; the seven classes are points in this space (see EXPRESSION_PROTOTYPES). */
export interface Expression {
  /** Mouth corners: +1 smile, -1 frown. */
  curve: number;
  /** Mouth opening, 0 closed .. 1 wide open. */
  open: number;
  /** Mouth width factor (1 = neutral). */
  width: number;
  /** One-sided upper-lip raise (disgust). */
  lipRaise: number;
  /** How much of the upper teeth shows when the mouth is open. */
  teeth: number;
  /** Brow slant: +1 inner ends raised (sad, fear), -1 inner ends lowered (anger). */
  browAngle: number;
  /** Brow height: +1 raised, -1 lowered. */
  browHeight: number;
  /** Eye openness (1 = neutral, <1 squint, >1 wide). */
  eyeOpen: number;
  /** Wrinkles across the nose, flared nostrils. */
  noseWrinkle: number;
  /** Raised cheeks: nasolabial folds and highlight. */
  cheekRaise: number;
}

export const EXPRESSION_KEYS = [
  'curve',
  'open',
  'width',
  'lipRaise',
  'teeth',
  'browAngle',
  'browHeight',
  'eyeOpen',
  'noseWrinkle',
  'cheekRaise',
] as const satisfies readonly (keyof Expression)[];

const NEUTRAL: Expression = {
  curve: 0,
  open: 0.03,
  width: 1,
  lipRaise: 0,
  teeth: 0,
  browAngle: 0,
  browHeight: 0,
  eyeOpen: 1,
  noseWrinkle: 0,
  cheekRaise: 0,
};

/**
 * Full-intensity prototypes in ABAW-7 order, with variants (e.g. closed vs open smile).
 * Neighbours in this space are deliberately close (fear/surprise, anger/disgust, sadness/neutral)
 * so that the classes are learnable but not trivially separable.
 */
export const EXPRESSION_PROTOTYPES: readonly (readonly Expression[])[] = [
  [NEUTRAL],
  [
    { ...NEUTRAL, curve: -0.35, open: 0, width: 0.82, browAngle: -1, browHeight: -0.7, eyeOpen: 0.75, noseWrinkle: 0.25 },
    { ...NEUTRAL, curve: -0.45, open: 0.38, width: 1.0, teeth: 1, browAngle: -1, browHeight: -0.6, eyeOpen: 0.85, noseWrinkle: 0.35 },
  ],
  [
    {
      ...NEUTRAL,
      curve: -0.45,
      open: 0.12,
      width: 0.9,
      lipRaise: 1,
      teeth: 0.6,
      browAngle: -0.45,
      browHeight: -0.45,
      eyeOpen: 0.6,
      noseWrinkle: 1,
      cheekRaise: 0.6,
    },
  ],
  [{ ...NEUTRAL, curve: -0.25, open: 0.45, width: 1.22, teeth: 0.4, browAngle: 0.8, browHeight: 0.6, eyeOpen: 1.45 }],
  [
    { ...NEUTRAL, curve: 1, open: 0.3, width: 1.22, teeth: 1, browHeight: 0.1, eyeOpen: 0.7, cheekRaise: 1 },
    { ...NEUTRAL, curve: 0.9, open: 0.03, width: 1.15, browHeight: 0.05, eyeOpen: 0.78, cheekRaise: 0.8 },
  ],
  [{ ...NEUTRAL, curve: -0.9, open: 0.02, width: 0.92, browAngle: 1, browHeight: 0.05, eyeOpen: 0.68 }],
  [{ ...NEUTRAL, curve: 0.05, open: 1, width: 0.72, teeth: 0.2, browAngle: 0.1, browHeight: 1, eyeOpen: 1.5 }],
];

export function neutralExpression(): Expression {
  return { ...NEUTRAL };
}

/** Person baseline + intensity * (prototype - neutral). */
export function expressionFor(cls: number, variant: number, intensity: number, baseline: Expression): Expression {
  const variants = EXPRESSION_PROTOTYPES[cls];
  if (!variants) throw new Error(`no expression prototype for class ${cls}`);
  const proto = variants[variant % variants.length];
  const out = { ...baseline };
  for (const k of EXPRESSION_KEYS) out[k] = baseline[k] + intensity * (proto[k] - NEUTRAL[k]);
  return out;
}

export function blendExpression(a: Expression, b: Expression, t: number): Expression {
  const out = { ...a };
  for (const k of EXPRESSION_KEYS) out[k] = a[k] + (b[k] - a[k]) * t;
  return out;
}
