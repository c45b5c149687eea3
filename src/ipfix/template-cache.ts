/**
 * Templates of one transport session, keyed by (observation domain ID, template ID). The session
 * itself is the owner of the cache, which makes the full key (session, domain, template ID).
 * Over TCP/TLS templates live as long as the session; over UDP they expire `lifetimeMs` after they
 * were last (re)sent (RFC 7011 §8.4).
 */
import type { Template } from './template.ts';

interface Entry {
  template: Template;
  expiresAt: number;
}

export class TemplateCache {
  private readonly domains = new Map<number, Map<number, Entry>>();

  constructor(
    /** Template lifetime; Infinity for stream transports. */
    readonly lifetimeMs: number,
    private readonly now: () => number,
  ) {}

  get(domain: number, templateId: number): Template | undefined {
    const entry = this.domains.get(domain)?.get(templateId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.domains.get(domain)?.delete(templateId);
      return undefined;
    }
    return entry.template;
  }

  /** Adds or replaces a template; a definition equal to the cached one keeps its compiled codecs. */
  set(domain: number, template: Template): Template {
    let templates = this.domains.get(domain);
    if (!templates) this.domains.set(domain, (templates = new Map()));
    const existing = templates.get(template.id);
    const kept = existing && existing.template.sameDefinition(template) ? existing.template : template;
    templates.set(template.id, { template: kept, expiresAt: this.now() + this.lifetimeMs });
    return kept;
  }

  delete(domain: number, templateId: number): boolean {
    return this.domains.get(domain)?.delete(templateId) ?? false;
  }

  /** Withdraws every template of a domain; `options` selects options templates, else data templates. */
  deleteAll(domain: number, options: boolean): number {
    const templates = this.domains.get(domain);
    if (!templates) return 0;
    let n = 0;
    for (const [id, e] of templates) {
      if (e.template.isOptionsTemplate === options) { templates.delete(id); n++; }
    }
    return n;
  }

  /** Number of live templates. */
  get size(): number {
    let n = 0;
    const now = this.now();
    for (const t of this.domains.values()) for (const e of t.values()) if (e.expiresAt > now) n++;
    return n;
  }

  /** Drops expired templates (UDP); returns how many. */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const t of this.domains.values()) {
      for (const [id, e] of t) if (e.expiresAt <= now) { t.delete(id); n++; }
    }
    return n;
  }
}
