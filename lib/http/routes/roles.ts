/** Who may call what, by route (§2). */
export const managers = ['admin', 'reseller'] as const;
export const customerReaders = ['admin', 'reseller', 'customer'] as const;
export const adminOnly = ['admin'] as const;
export const switchFacing = ['switch', 'admin'] as const;
