import { render } from 'solid-js/web';
import { App } from './app';
import './styles/base.css';
import './styles/components.css';
import './styles/pages.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
render(() => <App />, root);
